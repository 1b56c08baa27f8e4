"""Chinese text: which script a text is in, word segmentation (jieba) and Chinese numerals.

At the bottom of the layering beside rag.lexicon: ingest, chunking, keyword search, the answer
scorer and the answer check all read Han text, and none of them may import another for it. Every
function here leaves text without Han characters exactly as the English code paths had it, so
English answers do not move.
"""
