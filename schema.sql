-- Atslegas schema, version 1.
--
-- Applied once to an empty database (PRAGMA user_version = 0 -> 1). Later changes are
-- numbered files in migrations/ (0002_*.sql, ...), each applied once in order and
-- recorded in PRAGMA user_version. Never edit this file for a released change: add a
-- migration.
--
-- Times are INTEGER Unix seconds, UTC, everywhere. The UI converts to local time.
-- Rules that must hold whoever writes (the app, the CLI, a future tool) are triggers and
-- constraints here, not only checks in Rust.

-- Small settings the database itself owns (site name, session signing secret).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(username)) > 0),
    -- argon2id PHC string; NULL means "must set a password at first sign-in".
    password_hash        TEXT,
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    is_root              INTEGER NOT NULL DEFAULT 0 CHECK (is_root IN (0, 1)),
    active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    last_login_at        INTEGER,
    -- the root user is an admin, always
    CHECK (is_root = 0 OR role = 'admin')
);
-- at most one root user
CREATE UNIQUE INDEX users_one_root ON users (is_root) WHERE is_root = 1;

CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    full_name   TEXT    NOT NULL CHECK (length(trim(full_name)) > 0),
    code        TEXT,            -- person code / employee number
    department  TEXT,
    phone       TEXT,
    email       TEXT,
    badge       TEXT,            -- badge / card code a scanner reads
    notes       TEXT,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX persons_code  ON persons (code COLLATE NOCASE)  WHERE code IS NOT NULL;
CREATE UNIQUE INDEX persons_badge ON persons (badge COLLATE NOCASE) WHERE badge IS NOT NULL;
CREATE INDEX persons_name ON persons (full_name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE keys (
    id                INTEGER PRIMARY KEY,
    number            TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(number)) > 0),
    name              TEXT,          -- room, e.g. "Room 204"
    location          TEXT,          -- cabinet / hook
    key_type          TEXT,
    copies_note       TEXT,
    status            TEXT    NOT NULL DEFAULT 'available'
                              CHECK (status IN ('available', 'issued', 'lost', 'retired')),
    holder_person_id  INTEGER REFERENCES persons (id),
    issued_at         INTEGER,
    due_back_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER,
    -- a holder exactly when issued
    CHECK ((status = 'issued') = (holder_person_id IS NOT NULL))
);
CREATE INDEX keys_status ON keys (status) WHERE deleted_at IS NULL;
CREATE INDEX keys_holder ON keys (holder_person_id) WHERE holder_person_id IS NOT NULL;
CREATE INDEX keys_due    ON keys (due_back_at) WHERE status = 'issued';

CREATE TABLE groups (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(trim(name)) > 0),
    description  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    PRIMARY KEY (group_id, person_id)
) WITHOUT ROWID;
CREATE INDEX group_members_person ON group_members (person_id);

CREATE TABLE group_keys (
    group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    key_id    INTEGER NOT NULL REFERENCES keys (id),
    PRIMARY KEY (group_id, key_id)
) WITHOUT ROWID;
CREATE INDEX group_keys_key ON group_keys (key_id);

-- One row per movement of a key; never edited, never deleted. Later versions add columns
-- (a handover signature, a receipt number) through migrations.
CREATE TABLE key_log (
    id               INTEGER PRIMARY KEY,
    action           TEXT    NOT NULL CHECK (action IN ('issued', 'returned', 'lost', 'found')),
    key_id           INTEGER NOT NULL REFERENCES keys (id),
    person_id        INTEGER REFERENCES persons (id),
    user_id          INTEGER REFERENCES users (id),
    actor            TEXT    NOT NULL,    -- who did it, as shown (username or cli:NAME)
    at               INTEGER NOT NULL,
    due_back_at      INTEGER,
    comment          TEXT,
    override_reason  TEXT                 -- set when an admin issued outside group rights
);
CREATE INDEX key_log_at        ON key_log (at);
CREATE INDEX key_log_action_at ON key_log (action, at);
CREATE INDEX key_log_key       ON key_log (key_id, at);
CREATE INDEX key_log_person    ON key_log (person_id, at);
CREATE INDEX key_log_user      ON key_log (user_id, at);

-- The state machine of a key lives here, so no writer can issue an issued key or return
-- a key that is not out. RAISE messages are stable codes the core maps to errors.
CREATE TRIGGER key_log_check_issue BEFORE INSERT ON key_log WHEN NEW.action = 'issued'
BEGIN
    SELECT RAISE(ABORT, 'atslegas:key_not_available')
     WHERE (SELECT status FROM keys WHERE id = NEW.key_id AND deleted_at IS NULL) IS NOT 'available';
    SELECT RAISE(ABORT, 'atslegas:person_required') WHERE NEW.person_id IS NULL;
    SELECT RAISE(ABORT, 'atslegas:person_not_active')
     WHERE (SELECT active = 1 AND deleted_at IS NULL FROM persons WHERE id = NEW.person_id) IS NOT 1;
END;
CREATE TRIGGER key_log_check_return BEFORE INSERT ON key_log WHEN NEW.action = 'returned'
BEGIN
    SELECT RAISE(ABORT, 'atslegas:key_not_issued')
     WHERE (SELECT status FROM keys WHERE id = NEW.key_id) IS NOT 'issued';
END;
CREATE TRIGGER key_log_check_lost BEFORE INSERT ON key_log WHEN NEW.action = 'lost'
BEGIN
    SELECT RAISE(ABORT, 'atslegas:key_not_losable')
     WHERE (SELECT status FROM keys WHERE id = NEW.key_id) NOT IN ('issued', 'available');
END;
CREATE TRIGGER key_log_check_found BEFORE INSERT ON key_log WHEN NEW.action = 'found'
BEGIN
    SELECT RAISE(ABORT, 'atslegas:key_not_lost')
     WHERE (SELECT status FROM keys WHERE id = NEW.key_id) IS NOT 'lost';
END;
CREATE TRIGGER key_log_apply AFTER INSERT ON key_log
BEGIN
    UPDATE keys SET
        status           = CASE NEW.action WHEN 'issued' THEN 'issued' WHEN 'lost' THEN 'lost' ELSE 'available' END,
        holder_person_id = CASE NEW.action WHEN 'issued' THEN NEW.person_id ELSE NULL END,
        issued_at        = CASE NEW.action WHEN 'issued' THEN NEW.at ELSE NULL END,
        due_back_at      = CASE NEW.action WHEN 'issued' THEN NEW.due_back_at ELSE NULL END,
        updated_at       = NEW.at
     WHERE id = NEW.key_id;
END;
CREATE TRIGGER key_log_no_update BEFORE UPDATE ON key_log
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER key_log_no_delete BEFORE DELETE ON key_log
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
-- A key's status changes only through the key log (its status always equals what its
-- latest log row says), except retiring an available key and bringing a retired one back.
CREATE TRIGGER keys_status_guard BEFORE UPDATE OF status ON keys
 WHEN OLD.status IS NOT NEW.status
  AND NOT ((OLD.status = 'available' AND NEW.status = 'retired')
        OR (OLD.status = 'retired' AND NEW.status = 'available'))
  AND NEW.status IS NOT (SELECT CASE action WHEN 'issued' THEN 'issued' WHEN 'lost' THEN 'lost' ELSE 'available' END
                           FROM key_log WHERE key_id = NEW.id ORDER BY at DESC, id DESC LIMIT 1)
BEGIN
    SELECT RAISE(ABORT, 'atslegas:status_only_through_key_log');
END;

-- Append-only audit trail with a hash chain: hash = SHA-256 over prev_hash and the row's
-- fields (see core/src/audit.rs for the exact encoding). `audit verify` recomputes it.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    component  TEXT    NOT NULL,
    record_id  TEXT,
    operation  TEXT    NOT NULL,
    before     TEXT,              -- JSON
    after      TEXT,              -- JSON
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE INDEX audit_at        ON audit_log (at);
CREATE INDEX audit_component ON audit_log (component, record_id);
CREATE INDEX audit_actor     ON audit_log (actor, at);
CREATE INDEX audit_operation ON audit_log (operation, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'atslegas:append_only');
END;

-- History of every backup and restore attempt, with its steps.
CREATE TABLE backups (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,   -- full / database / config / restore
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    destination  TEXT,
    file_name    TEXT,
    size_bytes   INTEGER,
    sha256       TEXT,
    encrypted    INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'verified', 'failed', 'cancelled')),
    steps        TEXT    NOT NULL DEFAULT '[]',   -- JSON: [{name, status, error}]
    error        TEXT
);
CREATE INDEX backups_started ON backups (started_at);

-- Diacritics-insensitive instant search ("berzins" finds "Bērziņš"), kept in step by
-- triggers. These are indexes, not data: they are rebuilt, never audited.
CREATE VIRTUAL TABLE persons_fts USING fts5 (
    full_name, code, department, badge, email,
    content = 'persons', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER persons_fts_ai AFTER INSERT ON persons BEGIN
    INSERT INTO persons_fts (rowid, full_name, code, department, badge, email)
    VALUES (NEW.id, NEW.full_name, NEW.code, NEW.department, NEW.badge, NEW.email);
END;
CREATE TRIGGER persons_fts_ad AFTER DELETE ON persons BEGIN
    INSERT INTO persons_fts (persons_fts, rowid, full_name, code, department, badge, email)
    VALUES ('delete', OLD.id, OLD.full_name, OLD.code, OLD.department, OLD.badge, OLD.email);
END;
CREATE TRIGGER persons_fts_au AFTER UPDATE OF full_name, code, department, badge, email ON persons BEGIN
    INSERT INTO persons_fts (persons_fts, rowid, full_name, code, department, badge, email)
    VALUES ('delete', OLD.id, OLD.full_name, OLD.code, OLD.department, OLD.badge, OLD.email);
    INSERT INTO persons_fts (rowid, full_name, code, department, badge, email)
    VALUES (NEW.id, NEW.full_name, NEW.code, NEW.department, NEW.badge, NEW.email);
END;

CREATE VIRTUAL TABLE keys_fts USING fts5 (
    number, name, location, key_type,
    content = 'keys', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER keys_fts_ai AFTER INSERT ON keys BEGIN
    INSERT INTO keys_fts (rowid, number, name, location, key_type)
    VALUES (NEW.id, NEW.number, NEW.name, NEW.location, NEW.key_type);
END;
CREATE TRIGGER keys_fts_ad AFTER DELETE ON keys BEGIN
    INSERT INTO keys_fts (keys_fts, rowid, number, name, location, key_type)
    VALUES ('delete', OLD.id, OLD.number, OLD.name, OLD.location, OLD.key_type);
END;
CREATE TRIGGER keys_fts_au AFTER UPDATE OF number, name, location, key_type ON keys BEGIN
    INSERT INTO keys_fts (keys_fts, rowid, number, name, location, key_type)
    VALUES ('delete', OLD.id, OLD.number, OLD.name, OLD.location, OLD.key_type);
    INSERT INTO keys_fts (rowid, number, name, location, key_type)
    VALUES (NEW.id, NEW.number, NEW.name, NEW.location, NEW.key_type);
END;
