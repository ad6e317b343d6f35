"""The names under which LearnLake's models are registered in MLflow.

Training registers under them and serving loads ``models:/<name>@champion``; both import
the names from here, without importing each other's dependencies (torch, scikit-learn).
"""

POPULARITY = "learnlake-popularity-recommender"
KNOWLEDGE_TRACING = "learnlake-knowledge-tracing"
NEXT_ITEMS = "learnlake-next-items"
DROPOUT = "learnlake-dropout"
