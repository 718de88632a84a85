"""The IPython front end: ``%bentocloud`` and ``%deploy`` (parse, one verb, present), completion, loading."""
