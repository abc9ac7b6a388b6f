DROP INDEX break_glass_grants_caller;
ALTER TABLE break_glass_grants DROP COLUMN actor_role;
