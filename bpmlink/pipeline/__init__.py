"""Map → dedup → push: the pieces the worker runs and the api's preview reuses."""
