"""From one source request to the items bpmlink stores, by the catalog's `WebhookRules`
(`bpmlink.catalog.model`): paths into an item, shaping (parse, answers), splitting, idempotency
keys and the rules of a bundle's trigger. Shared by the gateway and the worker (read-back)."""
