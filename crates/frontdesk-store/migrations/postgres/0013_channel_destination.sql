-- Where a channel's conversations belong (C1): the shared inbox, or the help
-- desk (each new conversation is a ticket from the start).
ALTER TABLE channels ADD COLUMN destination TEXT NOT NULL DEFAULT 'inbox';
