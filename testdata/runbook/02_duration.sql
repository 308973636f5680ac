SELECT
  id,
  type,
  "startedAt",
  "completedAt",
  EXTRACT(EPOCH FROM ("completedAt" - "startedAt")) as duration_seconds
FROM "Job"
WHERE type = 'MetricCalculation'
  AND status = 'FAILED'
ORDER BY "createdAt" DESC
LIMIT 10;
