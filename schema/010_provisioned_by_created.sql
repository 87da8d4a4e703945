-- Version 10: provisioned containers and queues in the order of their creation, so that a page
-- of GET /_emu/containers?top= (the Migration center's timeline) reads its rows through an
-- index instead of sorting every name ever provisioned.
CREATE INDEX provisioned_by_created ON provisioned (created_ms, name);
