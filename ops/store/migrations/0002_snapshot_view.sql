-- Traffic Ops compatible view (spec B.1): one row per CDN with the current
-- snapshot and monitoring config as json, for readers written against TODB.
CREATE VIEW snapshot AS
SELECT c.name AS cdn,
       (convert_from(sb.body, 'UTF8')::json) -> 'response' AS crconfig,
       COALESCE((convert_from(mb.body, 'UTF8')::json) -> 'response', '{}'::json) AS monitoring,
       g.created_at AS last_updated
FROM cdn c
JOIN generation g ON g.cdn_id = c.id AND g.generation = c.current_generation
JOIN generation_file sf ON sf.cdn_id = c.id AND sf.generation = g.generation AND sf.name = 'crconfig.json'
JOIN blob sb ON sb.sha256 = sf.sha256
LEFT JOIN generation_file mf ON mf.cdn_id = c.id AND mf.generation = g.generation AND mf.name = 'monitoring.json'
LEFT JOIN blob mb ON mb.sha256 = mf.sha256;
