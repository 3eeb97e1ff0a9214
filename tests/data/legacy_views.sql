-- Gridwatch over an existing case database (SQLite), through views with Gridwatch's names.
-- The foreign schema: wo_region (areas), wo_type (categories), wo_order (cases). The same
-- views are shown for PostgreSQL in docs/import.md. Used by tests/test_import_views.py.
CREATE VIEW areas AS
SELECT rid AS id, rcode AS code, rname AS name,
       CASE rlevel WHEN 1 THEN 'district' WHEN 2 THEN 'street' WHEN 3 THEN 'community'
                   ELSE 'grid' END AS level,
       parent AS parent_id, shape AS geometry, cy AS center_lat, cx AS center_lon,
       0.0 AS area_m2, NULL AS leader, NULL AS leader_phone, NULL AS workers,
       NULL AS responsible_unit, NULL AS unit_leader, 0 AS derived
FROM wo_region;

CREATE VIEW categories AS
SELECT tid AS id, tcode AS code, kind, big AS major, small AS minor, '其他' AS element,
       hours AS limit_hours, hours AS urgent_limit_hours, NULL AS department_code
FROM wo_type;

CREATE VIEW departments AS
SELECT did AS id, dcode AS code, dname AS name, '专业部门' AS kind FROM wo_dept;

CREATE VIEW cases AS
SELECT oid AS id, 'legacy' AS source_system, order_no AS external_id, '巡查上报' AS source,
       NULL AS source_raw, tid AS category_id, '' AS description, addr AS address,
       y AS lat, x AS lon, 1 AS location_precise, NULL AS location_note,
       grid AS grid_id, comm AS community_id, street AS street_id, dept AS department_id,
       CASE state WHEN 1 THEN '上报' WHEN 2 THEN '立案' WHEN 3 THEN '派遣' WHEN 4 THEN '处置中'
                  WHEN 5 THEN '待核查' WHEN 6 THEN '结案' WHEN 9 THEN '作废' END AS status,
       CAST(state AS TEXT) AS status_raw, '一般' AS urgency, 1 AS severity, 1 AS valid_report,
       create_time AS reported_at, accept_time AS registered_at, send_time AS dispatched_at,
       finish_time AS handled_at, close_time AS closed_at,
       CASE WHEN state = 9 THEN cancel_time END AS cancelled_at,
       limit_time AS deadline_at, limit_time AS original_deadline_at,
       0 AS extended, 0 AS misdispatched, 0 AS rework_count, NULL AS settled_level,
       NULL AS repeat_of_id, NULL AS satisfied, NULL AS section_id, NULL AS photo_urls,
       NULL AS updated_at
FROM wo_order;
