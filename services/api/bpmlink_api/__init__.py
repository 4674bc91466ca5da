"""bpmlink_api"""
