-- Change from baseline in pain by condition, in DuckDB SQL (SPEC "Definitions").
-- {csv} is replaced by the path of the CSV file (quoted) by duckdb_change.py.
WITH encounters AS (
    SELECT
        patient_id,
        condition,
        day,
        pain,
        -- injections at earlier encounters of the course
        coalesce(sum(CAST(injection AS INTEGER)) OVER (
            PARTITION BY patient_id, condition ORDER BY day
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS injections_before
    FROM read_csv({csv}, types = {'day': 'BIGINT', 'pain': 'DOUBLE'})
),
scored AS (
    SELECT
        patient_id,
        condition,
        injections_before,
        pain,
        -- last pain before the first injection (baseline), last pain after one (final follow-up)
        last_value(CASE WHEN injections_before = 0 THEN pain END IGNORE NULLS) OVER course AS baseline,
        last_value(CASE WHEN injections_before >= 1 THEN pain END IGNORE NULLS) OVER course AS followup,
        row_number() OVER (PARTITION BY patient_id, condition ORDER BY day DESC) AS from_last
    FROM encounters
    WINDOW course AS (PARTITION BY patient_id, condition ORDER BY day
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
courses AS (
    SELECT condition, followup - baseline AS change
    FROM scored
    WHERE from_last = 1 AND baseline IS NOT NULL AND followup IS NOT NULL
)
SELECT condition, count(*) AS n, avg(change) AS mean_change, stddev_samp(change) AS sd_change
FROM courses
GROUP BY GROUPING SETS ((condition), ())
ORDER BY condition NULLS FIRST;
