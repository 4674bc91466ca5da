"""bpmlink_worker"""
