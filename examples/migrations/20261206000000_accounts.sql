-- covet:dialect postgres
-- up
create table "account_tokens" (
  "hash" varchar(64) primary key,
  "purpose" text not null,
  "user_id" integer not null references "users" ("id") on delete cascade,
  "email" text,
  "expires" bigint not null
);
alter table "users" add column "email_verified_at" timestamptz;
alter table "users" add column "tokens_valid_from" timestamptz;
alter table "users" add column "totp_secret" text;
alter table "users" add column "totp_enabled" boolean not null default false;
alter table "users" add column "totp_step" integer;
alter table "users" add column "recovery_hashes" text;

-- down
alter table "users" drop column "recovery_hashes";
alter table "users" drop column "totp_step";
alter table "users" drop column "totp_enabled";
alter table "users" drop column "totp_secret";
alter table "users" drop column "tokens_valid_from";
alter table "users" drop column "email_verified_at";
drop table "account_tokens";
