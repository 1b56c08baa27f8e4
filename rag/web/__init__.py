"""What both HTTP front ends share: JSON error bodies (errors.py) and the guard (guard.py: API keys, rate
limits, cross-site refusal, body and URL limits). The REST API (api/) and the MCP server over HTTP
(rag/mcp_server/http.py) import it; it imports nothing from either, so no front end imports another."""
