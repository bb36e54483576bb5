"""Triage: a knowledge base of Markdown articles and a matcher that suggests articles for a visitor's question.

This package does not depend on the chat server; the server codes against the names exported here.
"""
from .articles import (Article, ArticleError, LoadError, make_excerpt, parse_article, plain_text, render_markdown,
                       serialize_article)
from .encoder import SentenceEncoder
from .kb import AGENT_SEARCH_MIN_SCORE, DEFAULT_THRESHOLD, KnowledgeBase, Suggestion

__all__ = ["AGENT_SEARCH_MIN_SCORE", "Article", "ArticleError", "DEFAULT_THRESHOLD", "KnowledgeBase", "LoadError", "SentenceEncoder", "Suggestion",
           "make_excerpt", "parse_article", "plain_text", "render_markdown", "serialize_article"]
