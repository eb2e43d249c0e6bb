"""Importing an instructor's own material (transcripts from text, subtitles, documents, research corpora) into
validated content files of a course folder."""
