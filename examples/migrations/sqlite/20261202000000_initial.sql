-- up
create table "users" (
  "id" integer primary key,
  "name" text not null,
  "email" text not null unique,
  "password_hash" text,
  "created_at" text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create table "notes" (
  "id" integer primary key,
  "owner_id" integer not null references "users" ("id") on delete cascade,
  "text" text not null,
  "created_at" text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
create index "notes_owner_id_created_at_idx" on "notes" ("owner_id", "created_at");

-- down
pragma defer_foreign_keys = on;
drop table "notes";
drop table "users";
