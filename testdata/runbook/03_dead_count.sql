-- Count dead jobs by type
SELECT type, COUNT(*) as dead_count
FROM "Job"
WHERE status = 'DEAD'
GROUP BY type
ORDER BY dead_count DESC;
