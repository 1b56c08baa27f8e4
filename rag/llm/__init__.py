"""The local reader model: its weights (weights.py), the llama.cpp build flags (cpu_build.py), the
server child process (server.py) and its supervisor (supervisor.py). Nothing here knows about
answers: the answerer reaches the server like any OpenAI-compatible endpoint."""
