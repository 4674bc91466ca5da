"""bpmlink_gateway"""
