-- linkcredit schema, part 9: link-tool parity.
-- rules / variants: JSON lists (src/targeting.rs), NULL for none.
-- domain: the short domain (a SHORT_DOMAINS host) the link answers on; NULL: all.
ALTER TABLE links ADD COLUMN rules TEXT;
ALTER TABLE links ADD COLUMN variants TEXT;
ALTER TABLE links ADD COLUMN domain TEXT;

-- Free-form tags, filterable in the list API and bulk operations.
CREATE TABLE link_tags (
  link_id  INTEGER NOT NULL REFERENCES links(id),
  tag      TEXT    NOT NULL,
  PRIMARY KEY (link_id, tag)
) WITHOUT ROWID;
CREATE INDEX link_tags_tag ON link_tags(tag, link_id);

-- What a click came through and where it was sent:
-- trigger: link | qr (a scan of the link's QR code, which carries qr=1);
-- rule: the name of the targeting rule that matched; variant: the A/B variant.
ALTER TABLE clicks ADD COLUMN trigger TEXT NOT NULL DEFAULT 'link';
ALTER TABLE clicks ADD COLUMN rule TEXT;
ALTER TABLE clicks ADD COLUMN variant TEXT;
