module limitprobe

go 1.26
