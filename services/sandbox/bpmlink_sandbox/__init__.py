"""bpmlink_sandbox"""
