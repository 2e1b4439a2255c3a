-- What each API key may do, as a JSON array of permission names. Keys made before hold all.
ALTER TABLE api_keys ADD COLUMN permissions TEXT NOT NULL
    DEFAULT '["applicants:read","applicants:write","video:invite","applicants:erase","applicants:export"]';
