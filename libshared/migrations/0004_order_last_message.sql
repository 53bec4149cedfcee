-- order-ingest: the last shop.orders.v1 message sent per order, so an order
-- deleted in WooCommerce (whose order.deleted webhook carries only the id)
-- can still go out as a whole `cancelled` message.
ALTER TABLE ingested_orders ADD COLUMN last_message text;
