-- Find common error patterns
SELECT
  "errorMessage",
  COUNT(*) as occurrence_count
FROM "Job"
WHERE status = 'DEAD'
GROUP BY "errorMessage"
ORDER BY occurrence_count DESC
LIMIT 5;
