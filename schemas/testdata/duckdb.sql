-- One row per extracted version of a CrowdChange transaction (a charge or a refund); nested objects are flattened into prefixed columns. Query transactions_current for the latest state.
CREATE TABLE IF NOT EXISTS "transactions" (
  "id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "type" VARCHAR,
  "status" VARCHAR,
  "refund_children_ids" BIGINT[] NOT NULL,
  "parent_id" BIGINT,
  "partner_id" BIGINT,
  "promo_code" VARCHAR,
  "amount_apparel" DECIMAL(38, 9),
  "amount_covered_fees" DECIMAL(38, 9),
  "amount_currency" VARCHAR,
  "amount_donation" DECIMAL(38, 9),
  "amount_donation_to_pages" DECIMAL(38, 9),
  "amount_ecards" DECIMAL(38, 9),
  "amount_is_recurring" BOOLEAN,
  "amount_registration" DECIMAL(38, 9),
  "amount_sponsorship" DECIMAL(38, 9),
  "amount_tickets" DECIMAL(38, 9),
  "amount_total_net" DECIMAL(38, 9),
  "amount_total_paid" DECIMAL(38, 9),
  "amount_custom_fees" DECIMAL(38, 9),
  "billing_business_name" VARCHAR,
  "billing_is_foundation" BOOLEAN,
  "billing_title" VARCHAR,
  "billing_name" VARCHAR,
  "billing_first_name" VARCHAR,
  "billing_last_name" VARCHAR,
  "billing_street_address" VARCHAR,
  "billing_city" VARCHAR,
  "billing_country" VARCHAR,
  "billing_state" VARCHAR,
  "billing_postal" VARCHAR,
  "billing_email" VARCHAR,
  "billing_phone" VARCHAR,
  "donated_by_business_name" VARCHAR,
  "donated_by_is_foundation" BOOLEAN,
  "donated_by_title" VARCHAR,
  "donated_by_name" VARCHAR,
  "donated_by_first_name" VARCHAR,
  "donated_by_last_name" VARCHAR,
  "donated_by_street_address" VARCHAR,
  "donated_by_city" VARCHAR,
  "donated_by_country" VARCHAR,
  "donated_by_state" VARCHAR,
  "donated_by_postal" VARCHAR,
  "donated_by_email" VARCHAR,
  "donated_by_phone" VARCHAR,
  "donated_by_user_id" BIGINT,
  "mailing_business_name" VARCHAR,
  "mailing_is_foundation" BOOLEAN,
  "mailing_title" VARCHAR,
  "mailing_name" VARCHAR,
  "mailing_first_name" VARCHAR,
  "mailing_last_name" VARCHAR,
  "mailing_street_address" VARCHAR,
  "mailing_city" VARCHAR,
  "mailing_country" VARCHAR,
  "mailing_state" VARCHAR,
  "mailing_postal" VARCHAR,
  "mailing_email" VARCHAR,
  "mailing_phone" VARCHAR,
  "card_type" VARCHAR,
  "payment_processor" VARCHAR,
  "processor_transaction_id" VARCHAR,
  "date" TIMESTAMPTZ,
  "donation_comment" VARCHAR,
  "fundraiser_id" BIGINT,
  "fundraiser_partner_id" BIGINT,
  "fundraiser_template_id" BIGINT,
  "fundraiser_name" VARCHAR,
  "fundraiser_dt_start" TIMESTAMPTZ,
  "fundraiser_dt_end" TIMESTAMPTZ,
  "fundraiser_location" VARCHAR,
  "fundraiser_goal" DECIMAL(38, 9),
  "fundraiser_campus" VARCHAR,
  "fundraiser_national_office" VARCHAR,
  "fundraiser_chapter" VARCHAR,
  "fundraiser_chapter_custom_id" VARCHAR,
  "fundraiser_organization" VARCHAR,
  "fundraiser_in_support_name" VARCHAR,
  "fundraiser_in_support_code" VARCHAR,
  "fundraiser_appeal_code" VARCHAR,
  "fundraiser_language" VARCHAR,
  "fundraiser_tags_list" VARCHAR[] NOT NULL,
  "fundraiser_template_object_id" BIGINT,
  "fundraiser_template_name" VARCHAR,
  "fundraiser_user_id" BIGINT,
  "fundraiser_user_email" VARCHAR,
  "fundraiser_user_first_name" VARCHAR,
  "fundraiser_user_last_name" VARCHAR,
  "fundraiser_user_title" VARCHAR,
  "fundraiser_user_name" VARCHAR,
  "team_id" BIGINT,
  "team_partner_id" BIGINT,
  "team_fundraiser_id" BIGINT,
  "team_name" VARCHAR,
  "team_goal" DECIMAL(38, 9),
  "team_url" VARCHAR,
  "team_user_id" BIGINT,
  "team_user_email" VARCHAR,
  "team_user_first_name" VARCHAR,
  "team_user_last_name" VARCHAR,
  "team_user_language" VARCHAR,
  "team_user_title" VARCHAR,
  "team_user_name" VARCHAR,
  "page_id" BIGINT,
  "page_partner_id" BIGINT,
  "page_name" VARCHAR,
  "page_first_name" VARCHAR,
  "page_last_name" VARCHAR,
  "page_user_name" VARCHAR,
  "page_title" VARCHAR,
  "page_goal" DECIMAL(38, 9),
  "page_url" VARCHAR,
  "page_language" VARCHAR,
  "is_disputed" BOOLEAN,
  "is_refunded" BOOLEAN,
  "is_pending" BOOLEAN,
  "is_tax_receipt_issued" BOOLEAN,
  "tax_receipt_id" BIGINT,
  "tax_receipt_amount_donation" DECIMAL(38, 9),
  "tax_receipt_amount_benefit" DECIMAL(38, 9),
  "tax_receipt_amount_eligible" DECIMAL(38, 9),
  "tax_receipt_business_name" VARCHAR,
  "tax_receipt_name_on_receipt" VARCHAR,
  "tax_receipt_issued_on" TIMESTAMPTZ,
  "tax_receipt_receipt_number" VARCHAR,
  "tax_receipt_status" VARCHAR,
  "tax_receipt_title" VARCHAR,
  "tax_receipt_first_name" VARCHAR,
  "tax_receipt_last_name" VARCHAR,
  "tax_receipt_street_address" VARCHAR,
  "tax_receipt_city" VARCHAR,
  "tax_receipt_country" VARCHAR,
  "tax_receipt_state" VARCHAR,
  "tax_receipt_postal" VARCHAR,
  "tax_receipt_email" VARCHAR,
  "tax_receipt_user_id" BIGINT,
  "tax_receipt_transaction_id" BIGINT,
  "recurring_id" BIGINT,
  "recurring_amount" DECIMAL(38, 9),
  "recurring_amount_net" DECIMAL(38, 9),
  "recurring_interval" VARCHAR,
  "recurring_day" BIGINT,
  "recurring_month" BIGINT,
  "recurring_status" VARCHAR,
  "payout_account" VARCHAR,
  "payout_date" DATE,
  "purchased_apparel_count" BIGINT,
  "purchased_registration_count" BIGINT,
  "purchased_tickets_count" BIGINT,
  "purchased_ecards_count" BIGINT,
  "purchased_tribute_cards_count" BIGINT,
  "purchased_custom_fees_count" BIGINT,
  "purchased_sponsorship_count" BIGINT,
  "refunded_donations_count" BIGINT,
  "refunded_covered_fees_count" BIGINT,
  "refunded_apparel_count" BIGINT,
  "refunded_registration_count" BIGINT,
  "refunded_tickets_count" BIGINT,
  "refunded_ecards_count" BIGINT,
  "refunded_sponsorship_count" BIGINT,
  "refunded_custom_fees_count" BIGINT,
  "refunded_self_donations_count" BIGINT,
  "fulfillment_transaction_id" BIGINT,
  "is_pledge_transaction" BOOLEAN,
  "pledge_transaction_id" BIGINT,
  "is_fulfillment_transaction" BOOLEAN,
  "payee_billing_business_name" VARCHAR,
  "payee_billing_is_foundation" BOOLEAN,
  "payee_billing_title" VARCHAR,
  "payee_billing_name" VARCHAR,
  "payee_billing_first_name" VARCHAR,
  "payee_billing_last_name" VARCHAR,
  "payee_billing_street_address" VARCHAR,
  "payee_billing_city" VARCHAR,
  "payee_billing_country" VARCHAR,
  "payee_billing_state" VARCHAR,
  "payee_billing_postal" VARCHAR,
  "payee_billing_email" VARCHAR,
  "payee_billing_phone" VARCHAR,
  "payee_user_id" BIGINT,
  "payee_user_email" VARCHAR,
  "payee_user_first_name" VARCHAR,
  "payee_user_last_name" VARCHAR,
  "payee_user_language" VARCHAR,
  "payee_user_title" VARCHAR,
  "payee_user_name" VARCHAR,
  "donor_key" VARCHAR,
  "billing_donor_key" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every purchased and refunded line item of every transaction version, with its direction and category. The top-level sponsorship list counts as purchased.
CREATE TABLE IF NOT EXISTS "transaction_items" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "direction" VARCHAR NOT NULL,
  "category" VARCHAR NOT NULL,
  "position" BIGINT NOT NULL,
  "item_id" BIGINT,
  "name" VARCHAR,
  "option" VARCHAR,
  "price" DECIMAL(38, 9),
  "amount" DECIMAL(38, 9),
  "option_id" BIGINT,
  "source_id" BIGINT,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Detail of registration items: the registrant, their personal page, team and user, and mailing address. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'registration'.
CREATE TABLE IF NOT EXISTS "registrations" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "direction" VARCHAR NOT NULL,
  "position" BIGINT NOT NULL,
  "item_id" BIGINT,
  "first_name" VARCHAR,
  "last_name" VARCHAR,
  "alias_name" VARCHAR,
  "comment" VARCHAR,
  "is_amount_hidden" BOOLEAN,
  "registrant_id" BIGINT,
  "page_id" BIGINT,
  "page_name" VARCHAR,
  "page_goal" DECIMAL(38, 9),
  "page_url" VARCHAR,
  "self_donation_id" BIGINT,
  "self_donation_name" VARCHAR,
  "self_donation_amount" DECIMAL(38, 9),
  "team_id" BIGINT,
  "team_name" VARCHAR,
  "team_goal" DECIMAL(38, 9),
  "team_url" VARCHAR,
  "team_language" VARCHAR,
  "user_id" BIGINT,
  "user_email" VARCHAR,
  "user_first_name" VARCHAR,
  "user_last_name" VARCHAR,
  "user_title" VARCHAR,
  "user_name" VARCHAR,
  "mailing_street_address" VARCHAR,
  "mailing_city" VARCHAR,
  "mailing_country" VARCHAR,
  "mailing_state" VARCHAR,
  "mailing_postal" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Detail of e-card items. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'ecards'; the card's price is transaction_items.price.
CREATE TABLE IF NOT EXISTS "ecards" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "direction" VARCHAR NOT NULL,
  "position" BIGINT NOT NULL,
  "item_id" BIGINT,
  "method" VARCHAR,
  "send_on" DATE,
  "message" VARCHAR,
  "is_anonymous" BOOLEAN,
  "delivery_status" VARCHAR,
  "card_id" BIGINT,
  "card_name" VARCHAR,
  "recipient_name" VARCHAR,
  "recipient_email" VARCHAR,
  "recipient_phone" VARCHAR,
  "recipient_address" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Detail of tribute card items. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'tribute_cards'.
CREATE TABLE IF NOT EXISTS "tribute_cards" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "direction" VARCHAR NOT NULL,
  "position" BIGINT NOT NULL,
  "item_id" BIGINT,
  "method" VARCHAR,
  "type" VARCHAR,
  "honoree" VARCHAR,
  "message" VARCHAR,
  "delivery_status" VARCHAR,
  "recipient_name" VARCHAR,
  "recipient_email" VARCHAR,
  "recipient_phone" VARCHAR,
  "recipient_address" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Detail of self-donation items: the personal page donated to. Joins transaction_items on (transaction_id, direction, position, _run_id, _extracted_at) with category = 'self_donations'.
CREATE TABLE IF NOT EXISTS "self_donations" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "direction" VARCHAR NOT NULL,
  "position" BIGINT NOT NULL,
  "item_id" BIGINT,
  "page_id" BIGINT,
  "page_partner_id" BIGINT,
  "page_name" VARCHAR,
  "page_first_name" VARCHAR,
  "page_last_name" VARCHAR,
  "page_goal" DECIMAL(38, 9),
  "page_language" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Answers to custom questions from every level: transaction, fundraiser, team, page, registration, self_donation_page, with the owning object's ID.
CREATE TABLE IF NOT EXISTS "custom_data" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "level" VARCHAR NOT NULL,
  "owner_id" BIGINT,
  "direction" VARCHAR,
  "item_position" BIGINT,
  "position" BIGINT NOT NULL,
  "field_id" BIGINT,
  "source_id" BIGINT,
  "name" VARCHAR,
  "content" VARCHAR,
  "field_custom_id" VARCHAR,
  "response_custom_id" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every transaction version's original JSON, byte for byte, so that nothing is lost to a field the model does not know yet.
CREATE TABLE IF NOT EXISTS "raw_transactions" (
  "transaction_id" BIGINT NOT NULL,
  "transaction_date" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per version of a Crowdtilt payment (a contribution to a campaign); a new version only when the payment changed. Query crowdtilt_payments_current for the latest state.
CREATE TABLE IF NOT EXISTS "crowdtilt_payments" (
  "id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "campaign_id" VARCHAR,
  "user_id" VARCHAR,
  "status" VARCHAR,
  "amount_in_cents" BIGINT,
  "amount" DECIMAL(38, 9),
  "currency" VARCHAR,
  "user_fee_amount" BIGINT,
  "admin_fee_amount" BIGINT,
  "uri" VARCHAR,
  "card_last_four" VARCHAR,
  "card_type" VARCHAR,
  "card_expiration_month" VARCHAR,
  "card_expiration_year" BIGINT,
  "card_user_id" VARCHAR,
  "card_creation_date" TIMESTAMPTZ,
  "card_modification_date" TIMESTAMPTZ,
  "card_metadata" VARCHAR,
  "creation_date" TIMESTAMPTZ,
  "modification_date" TIMESTAMPTZ,
  "metadata" VARCHAR,
  "content_hash" VARCHAR NOT NULL,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every version of crowdtilt_payments as its JSON, exactly as the API sent it.
CREATE TABLE IF NOT EXISTS "raw_crowdtilt_payments" (
  "payment_id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per version of a Crowdtilt campaign; a new version only when the campaign changed (its stats follow its payments). Query crowdtilt_campaigns_current for the latest state.
CREATE TABLE IF NOT EXISTS "crowdtilt_campaigns" (
  "id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "title" VARCHAR,
  "tilt_amount" BIGINT,
  "min_payment_amount" BIGINT,
  "fixed_payment_amount" BIGINT,
  "expiration_date" TIMESTAMPTZ,
  "is_tilted" BIGINT,
  "is_paid" BIGINT,
  "is_expired" BIGINT,
  "needs_bank" BIGINT,
  "uri" VARCHAR,
  "payments_uri" VARCHAR,
  "settlements_uri" VARCHAR,
  "admin_id" VARCHAR,
  "first_contributor_id" VARCHAR,
  "tilter_id" VARCHAR,
  "tilt_percent" BIGINT,
  "raised_amount" BIGINT,
  "unique_contributors" BIGINT,
  "number_of_contributions" BIGINT,
  "creation_date" TIMESTAMPTZ,
  "modification_date" TIMESTAMPTZ,
  "metadata" VARCHAR,
  "content_hash" VARCHAR NOT NULL,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every version of crowdtilt_campaigns as its JSON, exactly as the API sent it.
CREATE TABLE IF NOT EXISTS "raw_crowdtilt_campaigns" (
  "campaign_id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per version of a Crowdtilt user (a payer or a campaign's admin); a new version only when the user changed. Query crowdtilt_users_current for the latest state.
CREATE TABLE IF NOT EXISTS "crowdtilt_users" (
  "id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "email" VARCHAR,
  "firstname" VARCHAR,
  "lastname" VARCHAR,
  "is_verified" BIGINT,
  "uri" VARCHAR,
  "cards_uri" VARCHAR,
  "banks_uri" VARCHAR,
  "campaigns_uri" VARCHAR,
  "payments_uri" VARCHAR,
  "paid_campaigns_uri" VARCHAR,
  "creation_date" TIMESTAMPTZ,
  "modification_date" TIMESTAMPTZ,
  "metadata" VARCHAR,
  "content_hash" VARCHAR NOT NULL,
  "donor_key" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every version of crowdtilt_users as its JSON, exactly as the API sent it.
CREATE TABLE IF NOT EXISTS "raw_crowdtilt_users" (
  "user_id" VARCHAR NOT NULL,
  "creation_day" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per extracted version of a Donately donation (a gift, one-time or a charge of a subscription). Query donately_donations_current for the latest state.
CREATE TABLE IF NOT EXISTS "donately_donations" (
  "id" VARCHAR NOT NULL,
  "created_date" DATE,
  "object" VARCHAR,
  "amount_in_cents" BIGINT,
  "amount" DECIMAL(38, 9),
  "currency" VARCHAR,
  "status" VARCHAR,
  "campaign_id" VARCHAR,
  "person_id" VARCHAR,
  "fundraiser_id" VARCHAR,
  "fundraiser_type" VARCHAR,
  "subscription_id" VARCHAR,
  "recurring_frequency" VARCHAR,
  "recurring_start_day" BIGINT,
  "recurring_stop_day" BIGINT,
  "recurring" BOOLEAN,
  "anonymous" BOOLEAN,
  "donation_type" VARCHAR,
  "comment" VARCHAR,
  "on_behalf_of" VARCHAR,
  "origin" VARCHAR,
  "notes" VARCHAR,
  "paypal_order_id" VARCHAR,
  "form_id" VARCHAR,
  "form_title" VARCHAR,
  "ecard" VARCHAR,
  "meta_data" VARCHAR,
  "created_at" TIMESTAMPTZ,
  "updated_at" TIMESTAMPTZ,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per member of a donation version's meta_data object, by key.
CREATE TABLE IF NOT EXISTS "donately_donation_meta_data" (
  "donation_id" VARCHAR NOT NULL,
  "created_date" DATE,
  "position" BIGINT NOT NULL,
  "key" VARCHAR,
  "value" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every Donately donation version's JSON as the API sent it, less payment_intent_secret.
CREATE TABLE IF NOT EXISTS "raw_donately_donations" (
  "donation_id" VARCHAR NOT NULL,
  "created_date" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per extracted version of a Donately campaign. Query donately_campaigns_current for the latest state.
CREATE TABLE IF NOT EXISTS "donately_campaigns" (
  "id" VARCHAR NOT NULL,
  "created_date" DATE,
  "object" VARCHAR,
  "title" VARCHAR,
  "status" VARCHAR,
  "type" VARCHAR,
  "goal_in_cents" BIGINT,
  "total_raised_in_cents" BIGINT,
  "page_template" VARCHAR,
  "created_at" TIMESTAMPTZ,
  "updated_at" TIMESTAMPTZ,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every Donately campaign version's JSON as the API sent it.
CREATE TABLE IF NOT EXISTS "raw_donately_campaigns" (
  "campaign_id" VARCHAR NOT NULL,
  "created_date" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- One row per extracted version of a Donately person (a donor or contact). Query donately_people_current for the latest state.
CREATE TABLE IF NOT EXISTS "donately_people" (
  "id" VARCHAR NOT NULL,
  "created_date" DATE,
  "object" VARCHAR,
  "email" VARCHAR,
  "first_name" VARCHAR,
  "last_name" VARCHAR,
  "phone_number" VARCHAR,
  "street_address" VARCHAR,
  "street_address_2" VARCHAR,
  "city" VARCHAR,
  "state" VARCHAR,
  "zip_code" VARCHAR,
  "country" VARCHAR,
  "created_at" TIMESTAMPTZ,
  "updated_at" TIMESTAMPTZ,
  "donor_key" VARCHAR,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Every Donately person version's JSON as the API sent it.
CREATE TABLE IF NOT EXISTS "raw_donately_people" (
  "person_id" VARCHAR NOT NULL,
  "created_date" DATE,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "unknown_fields" VARCHAR[] NOT NULL,
  "decode_error" VARCHAR,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Items the API sent that are not records ccsync can version (no readable id), kept whole with the window, page and position they came in and why; their window is committed without them.
CREATE TABLE IF NOT EXISTS "quarantine" (
  "stream" VARCHAR NOT NULL,
  "payout_account" VARCHAR,
  "window_start" TIMESTAMPTZ NOT NULL,
  "window_end" TIMESTAMPTZ NOT NULL,
  "page" BIGINT NOT NULL,
  "position" BIGINT NOT NULL,
  "reason" VARCHAR NOT NULL,
  "raw" VARCHAR NOT NULL USING COMPRESSION zstd,
  "raw_bytes_base64" VARCHAR USING COMPRESSION zstd,
  "_run_id" VARCHAR NOT NULL,
  "_batch_id" VARCHAR NOT NULL,
  "_extracted_at" TIMESTAMPTZ NOT NULL
);

-- Committed windows, append-only: one row per window per commit. A stream's watermark is the end of its contiguous committed prefix.
CREATE TABLE IF NOT EXISTS "ccsync_checkpoints" (
  "stream" VARCHAR NOT NULL,
  "payout_account" VARCHAR,
  "window_start" TIMESTAMPTZ NOT NULL,
  "window_end" TIMESTAMPTZ NOT NULL,
  "run_id" VARCHAR NOT NULL,
  "batch_id" VARCHAR NOT NULL,
  "committed_at" TIMESTAMPTZ NOT NULL,
  "transactions" BIGINT NOT NULL,
  "pages" BIGINT NOT NULL,
  "source" VARCHAR
);

-- The run log, append-only: one row when a run starts (outcome 'running') and one when it ends; the latest row of a run_id is its state.
CREATE TABLE IF NOT EXISTS "ccsync_runs" (
  "run_id" VARCHAR NOT NULL,
  "verb" VARCHAR NOT NULL,
  "args" VARCHAR,
  "range_start" TIMESTAMPTZ,
  "range_end" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL,
  "ended_at" TIMESTAMPTZ,
  "outcome" VARCHAR NOT NULL,
  "error" VARCHAR,
  "windows" BIGINT,
  "windows_skipped" BIGINT,
  "pages" BIGINT,
  "requests" BIGINT,
  "retries" BIGINT,
  "throttled" BIGINT,
  "transactions" BIGINT,
  "rows_per_table" VARCHAR,
  "bytes_loaded" BIGINT,
  "unknown_fields" BIGINT,
  "invalid_transactions" BIGINT,
  "quarantined" BIGINT,
  "pii_policy" VARCHAR,
  "source" VARCHAR
);

CREATE OR REPLACE VIEW "transactions_current" AS
SELECT t.*
FROM "transactions" AS t
WHERE t._batch_id IN (SELECT batch_id FROM "ccsync_checkpoints")
QUALIFY ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY t._extracted_at DESC, t._run_id DESC) = 1;

CREATE OR REPLACE VIEW "transaction_items_current" AS
SELECT c.*
FROM "transaction_items" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "registrations_current" AS
SELECT c.*
FROM "registrations" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "ecards_current" AS
SELECT c.*
FROM "ecards" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "tribute_cards_current" AS
SELECT c.*
FROM "tribute_cards" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "self_donations_current" AS
SELECT c.*
FROM "self_donations" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "custom_data_current" AS
SELECT c.*
FROM "custom_data" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

CREATE OR REPLACE VIEW "raw_transactions_current" AS
SELECT c.*
FROM "raw_transactions" AS c
JOIN "transactions_current" AS t ON c.transaction_id = t.id AND c._run_id = t._run_id AND c._extracted_at = t._extracted_at;

