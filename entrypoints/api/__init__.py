"""The HTTP API: the FastAPI app, served by uvicorn locally and by the Lambda handler on AWS."""
