"""What the full-text index (schema m16b_message_search: FTS5 kept by a trigger) costs each stored message: CPU per
INSERT into a messages table shaped like ours, 50 per transaction as the writer thread groups them, without the
index, with it, and with FTS5 detail=none (which would save little). `python benchmarks/fts_insert_cost.py`."""
import os
import random
import sqlite3
import tempfile
import time
OPTS = {"none": None, "full": "", "detail_none": ", detail=none, columnsize=0"}
def run(opt, n=20000):
    path = os.path.join(tempfile.gettempdir(), f"fts_cost_{os.getpid()}_{opt}.db")
    for suffix in ("", "-wal", "-shm"):
        try: os.remove(path + suffix)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER, seq INTEGER, text TEXT NOT NULL)")
    if OPTS[opt] is not None:
        db.execute(f"CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'{OPTS[opt]})")
        db.execute("CREATE TRIGGER t AFTER INSERT ON messages BEGIN INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END")
    random.seed(1)
    words = "where is my parcel order refund broken delivery address change password account invoice late".split()
    texts = [" ".join(random.choice(words) for _ in range(12)) for _ in range(n)]
    start = time.process_time()
    for i in range(0, n, 50):
        db.execute("BEGIN")
        for j, text in enumerate(texts[i:i+50]):
            db.execute("INSERT INTO messages (conversation_id, seq, text) VALUES (?, ?, ?)", [i, j, text])
        db.execute("COMMIT")
    spent = (time.process_time() - start) / n * 1e6
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return spent
results = {k: [] for k in OPTS}
for _ in range(3):
    for k in OPTS: results[k].append(run(k))
for k, v in results.items(): print(k, "CPU us/message (min of 3):", round(min(v), 1))
