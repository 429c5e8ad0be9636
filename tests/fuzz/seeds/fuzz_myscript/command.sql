SELECT 1;
\! touch /tmp/x
