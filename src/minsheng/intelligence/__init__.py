"""Appeal intelligence: category and department suggestions, similar appeals, hot issues and
reply checks. Everything runs on the CPU from the county's own data; nothing is downloaded."""
