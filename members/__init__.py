"""People and accounts: the person (auth user keyed by resident ID number), members, cadres, login rules."""
