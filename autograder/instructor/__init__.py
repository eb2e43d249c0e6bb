"""What an instructor reads after grading: the cohort table (cohort), agreement and certification (analytics),
the report and exports (report), and the agreement of keys with their second coding (second_coding)."""
