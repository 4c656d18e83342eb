-- One row per current gift or refund of every source: the gift with its status (a refunded gift stays, its refund is a row with a negative amount), in one shape across sources. See the README, Donations model.
CREATE OR REPLACE VIEW "donations" AS
SELECT
  'crowdchange' AS source,
  CAST(t.id AS STRING) AS source_id,
  CASE t.type WHEN 'refund' THEN 'refund' ELSE 'gift' END AS kind,
  t.status AS status,
  t.status AS source_status,
  t.date AS occurred_at,
  t.amount_donation AS amount,
  UPPER(t.amount_currency) AS currency,
  'crowdchange:' || CAST(t.fundraiser_id AS STRING) AS campaign_key,
  t.fundraiser_name AS campaign_name,
  COALESCE(t.donor_key, t.billing_donor_key) AS donor_key,
  COALESCE(t.amount_is_recurring, FALSE) AS is_recurring,
  CAST(t.id AS STRING) AS source_record_id,
  CAST(CASE t.type WHEN 'refund' THEN t.parent_id ELSE t.id END AS STRING) AS source_gift_id,
  CAST(t.fundraiser_id AS STRING) AS source_campaign_id,
  CAST(t.donated_by_user_id AS STRING) AS source_donor_id
FROM "transactions_current" AS t
WHERE t.type IN ('charge', 'refund') AND t.amount_donation <> 0
UNION ALL
SELECT
  'crowdtilt' AS source,
  CASE refund_kind.kind WHEN 'gift' THEN p.id ELSE p.id || ':refund' END AS source_id,
  refund_kind.kind AS kind,
  CASE refund_kind.kind WHEN 'gift' THEN CASE p.status WHEN 'charged' THEN 'completed' WHEN 'authorized' THEN 'pending' ELSE p.status END ELSE 'completed' END AS status,
  p.status AS source_status,
  CASE refund_kind.kind WHEN 'gift' THEN p.creation_date ELSE p.modification_date END AS occurred_at,
  CASE refund_kind.kind WHEN 'gift' THEN p.amount ELSE -(p.amount) END AS amount,
  UPPER(p.currency) AS currency,
  'crowdtilt:' || p.campaign_id AS campaign_key,
  c.title AS campaign_name,
  u.donor_key AS donor_key,
  FALSE AS is_recurring,
  p.id AS source_record_id,
  p.id AS source_gift_id,
  p.campaign_id AS source_campaign_id,
  p.user_id AS source_donor_id
FROM "crowdtilt_payments_current" AS p
LEFT JOIN "crowdtilt_campaigns_current" AS c ON c.id = p.campaign_id
LEFT JOIN "crowdtilt_users_current" AS u ON u.id = p.user_id
CROSS JOIN (SELECT 'gift' AS kind UNION ALL SELECT 'refund' AS kind) AS refund_kind
WHERE (refund_kind.kind = 'gift' OR (p.status = 'refunded'))
UNION ALL
SELECT
  'donately' AS source,
  CASE refund_kind.kind WHEN 'gift' THEN d.id ELSE d.id || ':refund' END AS source_id,
  refund_kind.kind AS kind,
  CASE refund_kind.kind WHEN 'gift' THEN d.status ELSE 'completed' END AS status,
  d.status AS source_status,
  CASE refund_kind.kind WHEN 'gift' THEN d.created_at ELSE d.updated_at END AS occurred_at,
  CASE refund_kind.kind WHEN 'gift' THEN d.amount ELSE -(d.amount) END AS amount,
  UPPER(d.currency) AS currency,
  'donately:' || d.campaign_id AS campaign_key,
  c.title AS campaign_name,
  p.donor_key AS donor_key,
  (COALESCE(d.recurring, FALSE) OR d.subscription_id IS NOT NULL) AS is_recurring,
  d.id AS source_record_id,
  d.id AS source_gift_id,
  d.campaign_id AS source_campaign_id,
  d.person_id AS source_donor_id
FROM "donately_donations_current" AS d
LEFT JOIN "donately_campaigns_current" AS c ON c.id = d.campaign_id
LEFT JOIN "donately_people_current" AS p ON p.id = d.person_id
CROSS JOIN (SELECT 'gift' AS kind UNION ALL SELECT 'refund' AS kind) AS refund_kind
WHERE (refund_kind.kind = 'gift' OR (d.status = 'refunded'));

-- Per campaign, UTC month and currency: gross (completed and refunded gifts), refunds (negative), net, gifts and distinct donors. Pending and rejected gifts are left out. A refund counts in the month it was given.
CREATE OR REPLACE VIEW "campaign_monthly" AS
SELECT
  campaign_key,
  MAX(campaign_name) AS campaign_name,
  CAST(date_trunc('month', timezone('UTC', occurred_at)) AS DATE) AS month,
  currency,
  SUM(CASE WHEN kind = 'gift' THEN amount ELSE 0 END) AS gross,
  SUM(CASE WHEN kind = 'refund' THEN amount ELSE 0 END) AS refunds,
  SUM(amount) AS net,
  COUNT(CASE WHEN kind = 'gift' THEN 1 END) AS gift_count,
  COUNT(DISTINCT CASE WHEN kind = 'gift' THEN donor_key END) AS donor_count
FROM "donations"
WHERE status IN ('completed', 'refunded')
GROUP BY campaign_key, month, currency;

-- Per donor (donor_key) and currency: first and last gift, gifts, lifetime net (gifts less refunds) and whether any gift is recurring. Completed and refunded gifts and their refunds only; gifts without a donor_key are left out.
CREATE OR REPLACE VIEW "donors" AS
SELECT
  donor_key,
  currency,
  MIN(CASE WHEN kind = 'gift' THEN occurred_at END) AS first_gift_at,
  MAX(CASE WHEN kind = 'gift' THEN occurred_at END) AS last_gift_at,
  COUNT(CASE WHEN kind = 'gift' THEN 1 END) AS gift_count,
  SUM(amount) AS lifetime_net,
  MAX(CASE WHEN kind = 'gift' AND is_recurring THEN 1 ELSE 0 END) = 1 AS is_recurring
FROM "donations"
WHERE status IN ('completed', 'refunded') AND donor_key IS NOT NULL
GROUP BY donor_key, currency;

