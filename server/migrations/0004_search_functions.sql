-- Message search: trigram matching (substrings, code identifiers, URLs, CJK text) and the
-- full-text document of a message body, one immutable function so the index and the queries
-- say exactly the same thing. pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION chat.message_search_document(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT to_tsvector('simple'::regconfig, body || ' ' || regexp_replace(body, '([a-z0-9])([A-Z])', '\1 \2', 'g'))
$$;
