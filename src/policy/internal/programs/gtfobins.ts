/**
 * What GTFOBins (https://gtfobins.github.io) says each program can be made
 * to do, for the programs the engine has no spec for. A program the engine
 * has no option table for is otherwise judged by its words alone (see the
 * judge's "What an allow covers"); a program GTFOBins lists can run a
 * command, load a library or reach the network through options those words
 * do not reveal (`gcc -wrapper`, `ssh-keygen -D`, `7z` reading a list file),
 * so a prefix rule naming it does not cover it: only a rule that spells the
 * whole command does. A program that can only write files is covered while
 * none of its words names a place outside the workspace.
 *
 * Letters: `c` runs a command or a shell, `l` loads a library, `n` reaches
 * the network, `r` reads files, `w` writes files. Aliases (`cc` is `gcc`)
 * and inherited functions (`journalctl` pages with `less`) are resolved.
 *
 * Generated from GTFOBins/GTFOBins.github.io `_gtfobins/` at commit 7382261
 * (each file's `functions:` keys, `alias:` and `from:`); regenerate with the
 * same mapping when GTFOBins grows. A program with a spec is judged by its
 * spec whatever this table says.
 */

const table: Readonly<Record<string, string>> = {
  c: `
    R aa-exec acr agetty ansible-playbook ansible-test aoss arch-nspawn asterisk at autoconf autoheader
    autoreconf borg bpftrace cabal capsh cdist certbot check_by_ssh check_ssl_cert choom chroot chrt
    clisp cobc codex composer cpulimit ctr dc debugfs dhclient distcc dmsetup dnf dnsmasq doas dvips
    easyrsa enscript env fail2ban-client firejail fish flock forge fzf genie ghc ghci ginsh gnuplot grc
    guile hg iftop ionice ispell java joe jtag ksu ld.so lftp loginctl logsave lxd mail minicom
    mosh-server multitime ncdu ncftp nice nohup npm nsenter openvt opkg pdftex perf perlbug pexec
    pidstat pkexec pkg plymouth podman posh procmail psftp ranger rc rsync rsyslogd rtorrent run-parts
    runscript rustup sash scanmem scrot service setarch setlock sg slsh snap socket softlimit ssh-agent
    sshpass sshuttle start-stop-daemon stdbuf su sudo systemd-run task taskset tasksh tdbtool telnet tex
    time timeout tmate top torify torsocks unshare uv valgrind watch wg-quick xdg-user-dir xdotool xetex
    yarn yash yt-dlp zathura zic zypper`,
  l: `
    ffmpeg ldconfig ssh-keygen`,
  n: `
    ab cancel finger lp rlogin tailscale tftp whois`,
  r: `
    7z alpine apache2 apache2ctl ar arp as ascii-xfr ascii85 aspell atobm base32 base58 base64 basenc
    basez bbot bc bridge bzip2 cat check_cups check_memory check_raid check_statusfile clamscan cmp
    column comm cupsfilter cut date dialog diff dig efax egrep eqn espeak expand fgrep file fmt fold
    fping gcore genisoimage grep gzip hd head hexdump highlight join jq ksshell last lastb links look
    lwp-request mosquitto msgattrib msgcat msgconv msgmerge msguniq mtr mutt nasm nft nl nm ntpdate od
    paste pax pr ptx pygmentize pyright qpdf readelf redcarpet rev rustfmt soelim ss ssh-keyscan strings
    tac tail tbl terraform tic troff ul unexpand uniq urlget uuencode w3m wall wc whiptail xmodmap xmore
    xpad xz yelp zcat zgrep zsoelim`,
  w: `
    dmidecode hashcat iptables-save mv redis shred tee update-alternatives varnishncsa`,
  cl: `
    mysql tclsh wish`,
  cn: `
    code ftp hping3 kubectl nc restic scp sftp smbclient sshfs`,
  cr: `
    bconsole cmake dotnet expect fastfetch ip m4 more msgfilter neofetch nroff openvpn pg pic sysctl
    tmux xargs zip`,
  cw: `
    ash csh dash gtester pwsh rlwrap screen script strace tcpdump tcsh virsh`,
  ln: `
    nginx`,
  rw: `
    arj check_log cp csplit dd dos2unix dosbox iconv mypy rustdoc shuf sort ssh-copy-id tsc xxd`,
  cnr: `
    aria2c cowsay cowthink cpan latexmk needrestart perl ssh`,
  crw: `
    apport-cli apt apt-get aptitude awk aws bashbug batcat busctl c89 c99 cargo cc cpio crash crontab
    csvtool dmesg docker dpkg eb ed elvish emacs ex find g++ gawk gcc gcloud git go journalctl jshell
    latex less logrotate ltrace make man mawk nano nawk octave opencode pdflatex pico psql puppet red
    run-mailcap rustc sed split sqlite3 systemctl systemd-resolve timedatectl vi vigr vipw xelatex zless`,
  nrw: `
    lwp-download`,
  cnrw: `
    bee busybox exiftool jjs jrunscript julia lua lualatex luatex nmap node pandoc php rpm rpmdb
    rpmquery rpmverify socat tar tshark wget wireshark zsh`,
  lnrw: `
    curl`,
  clnrw: `
    bash bundle bundler byebug dstat easy_install facter gdb gem gimp irb knife ksh msfconsole nvim
    openssl pdb pip pipx poetry pry python rake ruby rview rvim sqlmap vagrant view vim vimdiff
    volatility yum`,
}

// What GTFOBins leaves out and the engine must still know: its archivers
// are listed for reading, but extracting writes every member where the
// archive says (`7z x a.7z -o/etc`); libarchive's front ends run a
// compressor command (`--use-compress-program`); and the programs it lists
// only for privilege escalation change what a file grants (`setcap
// cap_setuid+ep F`, ACLs, attributes) or what a path shows (`mount`).
const beyond: Readonly<Record<string, string>> = {
  rw: "7z 7za 7zr 7zz ar pax arj unrar rar lha unar unsquashfs",
  w: "setcap setfacl chattr",
  crw: "bsdtar bsdcpio mount umount"
}

const byName = new Map<string, string>()
for (const source of [table, beyond]) {
  for (const [letters, names] of Object.entries(source)) for (const name of names.split(/\s+/)) if (name !== "") byName.set(name, letters)
}

/** Every program of the table with its letters. */
export const listed = (): ReadonlyArray<readonly [string, string]> => [...byName]

/** What GTFOBins lists `name` (a base name) as able to do, as letters of `crwln`; undefined when it does not list it. */
export const capabilities = (name: string): string | undefined => byName.get(name)

/** Whether a program with these capabilities can do more than read and write files. */
export const runsOrReaches = (letters: string): boolean => /[cln]/.test(letters)

const words: Readonly<Record<string, string>> = { c: "run commands", l: "load a library", n: "reach the network", r: "read files", w: "write files" }

/** `run commands, reach the network and write files`. */
export const describe = (letters: string): string => {
  const parts = [...letters].filter((l) => l !== "r" || letters === "r").map((l) => words[l]!)
  return parts.length <= 1 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`
}
