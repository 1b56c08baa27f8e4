"""`rag mcp`: the Model Context Protocol server (official `mcp` SDK), a thin adapter over RagService."""
