-- fulfilment-reporter: more per-store fulfilment options (no row = defaults).
ALTER TABLE fulfilment_settings
    -- Shopify: orderClose once an order is fully fulfilled, or fully returned
    -- and refunded. Off by default: closing archives the order in the admin.
    ADD COLUMN auto_close boolean NOT NULL DEFAULT false,
    -- `packed` with shipments already reports tracking (a label printed at
    -- packing); the later `dispatched` only completes the order.
    ADD COLUMN tracking_on_packed boolean NOT NULL DEFAULT false,
    -- What a WMS `cancelled` does in the shop: record (nothing in the shop),
    -- note (an order note / staff note), cancel (WooCommerce status
    -- cancelled, Shopify orderCancel).
    ADD COLUMN cancelled_report text NOT NULL DEFAULT 'record'
        CHECK (cancelled_report IN ('record', 'note', 'cancel'));

-- Which return (and so which refund) has refunded an order's shipping, so a
-- second return with a shipping-refunding reason code does not refund it
-- again. Set when the report is begun, before the shop call.
ALTER TABLE fulfilment_reports ADD COLUMN refunds_shipping boolean NOT NULL DEFAULT false;
