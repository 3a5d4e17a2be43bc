-- up
create table "users" (
  "id" serial primary key,
  "name" text not null,
  "email" text not null unique,
  "created_at" timestamptz not null default now()
);
create table "notes" (
  "id" serial primary key,
  "owner_id" integer not null references "users" ("id") on delete cascade,
  "text" text not null,
  "created_at" timestamptz not null default now()
);
create index "notes_owner_id_created_at_idx" on "notes" ("owner_id", "created_at");

-- down
drop table "notes";
drop table "users";
