"""Excel bulk import of members and cadres: templates, validation, results, failure workbooks, jobs."""
