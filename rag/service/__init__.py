"""The service layer: the use cases once, for the CLI, the HTTP API and the MCP server."""

from rag.service.core import ANSWER_MODES, RagService, make_filters
from rag.service.errors import ServiceError
from rag.service.records import ArticleView, CollectionStats, DeleteResult, FileResult, FileStatus, UploadResult
from rag.service.uploads import UploadedFile, text_document

__all__ = [
    "ANSWER_MODES", "ArticleView", "CollectionStats", "DeleteResult", "FileResult", "FileStatus", "RagService",
    "ServiceError", "UploadResult", "UploadedFile", "make_filters", "text_document",
]
