#!/usr/bin/env bash
# Nightly backup: the database (pg_dump, custom format) and the evidence files (UPLOAD_DIR).
# Both are needed: the database refers to files by their SHA-256, the files are the evidence.
# Usage: deploy/backup.sh /backups   (reads DATABASE_URL and UPLOAD_DIR from /srv/rectify/env)
set -euo pipefail
target=${1:?usage: backup.sh BACKUP_DIR}
set -a; . /srv/rectify/env; set +a
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$target/$stamp"
# pg_dump wants a libpq URL, without SQLAlchemy's "+psycopg" driver suffix.
pg_dump --format=custom --file="$target/$stamp/rectify.dump" "${DATABASE_URL/+psycopg/}"
# Files are content-addressed and never change once written: rsync copies only the new ones.
rsync -a "$UPLOAD_DIR/" "$target/uploads/"
cp -al "$target/uploads" "$target/$stamp/uploads"   # a cheap hard-linked snapshot
echo "backup written to $target/$stamp"
