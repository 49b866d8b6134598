-- The incident states an instance lists (sys_choice), as the last connection test read them.
CREATE TABLE instance_states (
    position  INTEGER PRIMARY KEY,
    value     TEXT    NOT NULL UNIQUE,
    label     TEXT    NOT NULL
) STRICT;
