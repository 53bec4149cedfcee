-- order-ingest: a store may require every SKU of an order to have a product
-- mapping; an order with an unmapped SKU then goes to the dead-letter topic.
ALTER TABLE stores ADD COLUMN require_sku_mapping boolean NOT NULL DEFAULT false;
