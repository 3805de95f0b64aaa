"""`dac deploy` and `dac verify`: ship dist/ to Splunk and Elastic over their REST APIs.

Every target follows the same cycle: read what is deployed, compare it with dist/ into a plan
(create, update, unchanged, keep, delete), apply the plan unless it is a dry run, then read the
target again so that the report says what is really there, not what the requests returned.
"""
