-- up
alter table "users" add column "password_hash" text;

-- down
alter table "users" drop column "password_hash";
