"""The program as data (issue 14): published versions, drafts, publish and restore, every process following.

``config.yaml``'s ``program:`` seeds version 1 on ``bridge db upgrade``; after that the database is the source.
Each process reads the published version number every few seconds (``Runtime.reload_shops``) and rebuilds its
program settings and rules when it moved. Drafts never affect awards.
"""
