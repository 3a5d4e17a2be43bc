-- up
create table "users" (
  "id" integer auto_increment primary key,
  "name" text not null,
  "email" varchar(255) not null unique,
  "password_hash" text,
  "created_at" datetime(3) not null default current_timestamp(3)
);
create table "notes" (
  "id" integer auto_increment primary key,
  "owner_id" integer not null,
  "text" text not null,
  "created_at" datetime(3) not null default current_timestamp(3),
  constraint "notes_owner_id_fkey" foreign key ("owner_id") references "users" ("id") on delete cascade
);
create index "notes_owner_id_created_at_idx" on "notes" ("owner_id", "created_at");

-- down
drop table "notes";
drop table "users";
