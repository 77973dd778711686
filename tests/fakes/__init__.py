"""Test doubles that are real local servers (see vllm_server.py)."""
