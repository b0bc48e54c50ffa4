"""What every store's mapping needs, whatever the store: value coercion (values), the rules for
fields sent in clear (privacy) and event_time (timing). Nothing here knows a store."""
