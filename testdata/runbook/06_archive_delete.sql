DELETE FROM "Job"
WHERE status = 'DEAD'
  AND "createdAt" < NOW() - INTERVAL '30 days';
