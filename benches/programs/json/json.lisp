;; json: generate a JSON document of n records (default n = 27,000, about
;; 5 MB) with the Park-Miller generator (seed 42), print it to a string,
;; parse it back with a recursive-descent parser and summarise the parsed
;; value; see json.omni. An object is an association list of (key . value)
;; in document order (nil is the empty object), an array a simple-vector,
;; true, false and null the keywords :true :false :null; the text is printed
;; to a string output stream. Size: records.

;; ---------------------------------------------------------------- generate

(defvar *seed* 42)
(defun rand (n)
  (setf *seed* (rem (* *seed* 16807) 2147483647))
  (rem *seed* n))

;; The first letter drawn is the last of the word (the OmniLisp version conses).
(defun rand-word ()
  (let* ((len (+ 3 (rand 8))) (s (make-string len)))
    (loop for j from (- len 1) downto 0 do (setf (char s j) (code-char (+ 97 (rand 26)))))
    s))

(defparameter *line* (format nil "line~Cnext~Ctab" #\Newline #\Tab))
(defparameter *cafe* (format nil "caf~C ~Cx" (code-char #xe9) (code-char #x3bb)))
(defparameter *bell* (format nil "bell~C" (code-char 1)))
(defun fragment ()
  (case (rand 10)
    (5 "say \"hi\"")
    (6 "C:\\dir\\file")
    (7 *line*)
    (8 *cafe*)
    (9 *bell*)
    (t (rand-word))))

(defun text ()
  (let ((frags '()))
    (dotimes (j (+ 1 (rand 4))) (push (fragment) frags))
    (with-output-to-string (out)
      (write-string (car frags) out)
      (dolist (f (cdr frags)) (write-char #\Space out) (write-string f out)))))

(defun words (k)
  (let ((v (make-array k)))
    (dotimes (j k) (setf (svref v j) (rand-word)))
    v))

(defun triples (k)
  (let ((v (make-array k)))
    (dotimes (j k)
      (let* ((x (rand 100)) (y (rand 100)) (z (rand 100)))
        (setf (svref v j) (vector x y z))))
    v))

(defun record (i)
  (let* ((name (rand-word))
         (score (- (rand 2000001) 1000000))
         (active (if (/= (rand 3) 0) :true :false))
         (tags (words (rand 5)))
         (note (text))
         (x (rand 1000))
         (y (- 0 (rand 1000)))
         (z (if (= (rand 2) 0) :null (rand 10)))
         (history (triples (rand 4))))
    (list (cons "id" i) (cons "name" name) (cons "score" score) (cons "active" active)
          (cons "tags" tags) (cons "text" note)
          (cons "pos" (list (cons "x" x) (cons "y" y) (cons "z" z)))
          (cons "history" history))))

(defun document (n)
  (let ((rs (make-array n)))
    (dotimes (i n) (setf (svref rs i) (record i)))
    (list (cons "count" n) (cons "records" rs))))

;; ---------------------------------------------------------------- print

(defparameter *hex-digits* "0123456789abcdef")
(defun hex-digit (k d) (char *hex-digits* (rem (truncate k d) 16)))

(defun emit-string (s out)
  (write-char #\" out)
  (loop for c across s
        do (case c
             (#\" (write-string "\\\"" out))
             (#\\ (write-string "\\\\" out))
             (#\Newline (write-string "\\n" out))
             (#\Tab (write-string "\\t" out))
             (t (let ((k (char-code c)))
                  (if (and (>= k 32) (< k 127))
                      (write-char c out)
                      (progn
                        (write-string "\\u" out)
                        (write-char (hex-digit k 4096) out)
                        (write-char (hex-digit k 256) out)
                        (write-char (hex-digit k 16) out)
                        (write-char (hex-digit k 1) out)))))))
  (write-char #\" out))

(defun emit-value (v out)
  (cond ((stringp v) (emit-string v out))
        ((integerp v) (princ v out))
        ((eq v :true) (write-string "true" out))
        ((eq v :false) (write-string "false" out))
        ((eq v :null) (write-string "null" out))
        ((simple-vector-p v)
         (write-char #\[ out)
         (dotimes (i (length v))
           (when (> i 0) (write-char #\, out))
           (emit-value (svref v i) out))
         (write-char #\] out))
        (t
         (write-char #\{ out)
         (loop for (k . x) in v
               for first = t then nil
               do (unless first (write-char #\, out))
                  (emit-string k out)
                  (write-char #\: out)
                  (emit-value x out))
         (write-char #\} out))))

(defun to-json (v) (with-output-to-string (out) (emit-value v out)))

;; ---------------------------------------------------------------- parse

;; The parser reads the text from *pos*, the index of the next char.
(defvar *pos* 0)

(defun fail (what) (error "json: ~A at ~D" what *pos*))

(defun next-char (s)
  (if (< *pos* (length s))
      (prog1 (char s *pos*) (incf *pos*))
      (fail "unexpected end")))

(defun skip-ws (s)
  (loop while (and (< *pos* (length s)) (member (char s *pos*) '(#\Space #\Newline #\Tab #\Return)))
        do (incf *pos*)))

(defun expect (s c)
  (skip-ws s)
  (unless (eql (next-char s) c) (fail (format nil "expected ~C" c))))

(defun digit (s i)
  (if (< i (length s))
      (let ((k (- (char-code (char s i)) 48))) (if (and (>= k 0) (< k 10)) k -1))
      -1))

(defun parse-number (s)
  (when (< (digit s *pos*) 0) (fail "expected a digit"))
  (let ((acc 0))
    (loop for k = (digit s *pos*)
          while (>= k 0)
          do (setf acc (+ (* acc 10) k)) (incf *pos*))
    acc))

(defun hex-value (s)
  (let ((k (char-code (next-char s))))
    (cond ((and (>= k 48) (<= k 57)) (- k 48))
          ((and (>= k 97) (<= k 102)) (- k 87))
          ((and (>= k 65) (<= k 70)) (- k 55))
          (t (fail "bad \\u escape")))))

(defun unescape (s)
  (case (next-char s)
    (#\" "\"")
    (#\\ "\\")
    (#\/ "/")
    (#\n (string #\Newline))
    (#\t (string #\Tab))
    (#\r (string (code-char 13)))
    (#\b (string (code-char 8)))
    (#\f (string (code-char 12)))
    (#\u (let* ((a (hex-value s)) (b (hex-value s)) (c (hex-value s)) (d (hex-value s)))
           (string (code-char (+ (* 4096 a) (* 256 b) (* 16 c) d)))))
    (t (fail "bad escape"))))

;; Runs of plain text are copied with subseq, pieces joined only when the
;; string holds escapes.
(defun parse-string (s)
  (expect s #\")
  (let ((start *pos*) (pieces '()))
    (loop
      (let ((c (next-char s)))
        (case c
          (#\" (let ((last (subseq s start (- *pos* 1))))
                 (return (if (null pieces)
                             last
                             (apply #'concatenate 'string (reverse (cons last pieces)))))))
          (#\\ (let* ((run (subseq s start (- *pos* 1))) (e (unescape s)))
                 (setf pieces (cons e (cons run pieces)) start *pos*))))))))

(defun parse-literal (s word value)
  (let ((end (+ *pos* (length word))))
    (unless (and (<= end (length s)) (string= s word :start1 *pos* :end1 end))
      (fail (format nil "expected ~A" word)))
    (setf *pos* end)
    value))

(defun parse-value (s)
  (skip-ws s)
  (when (>= *pos* (length s)) (fail "unexpected end"))
  (case (char s *pos*)
    (#\{ (incf *pos*)
     (skip-ws s)
     (if (and (< *pos* (length s)) (eql (char s *pos*) #\}))
         (progn (incf *pos*) nil)
         (let ((acc '()))
           (loop
             (let* ((k (parse-string s)) (v (progn (expect s #\:) (parse-value s))))
               (push (cons k v) acc)
               (skip-ws s)
               (case (next-char s)
                 (#\, nil)
                 (#\} (return (nreverse acc)))
                 (t (fail "expected , or }"))))))))
    (#\[ (incf *pos*)
     (skip-ws s)
     (if (and (< *pos* (length s)) (eql (char s *pos*) #\]))
         (progn (incf *pos*) (vector))
         (let ((acc '()))
           (loop
             (push (parse-value s) acc)
             (skip-ws s)
             (case (next-char s)
               (#\, nil)
               (#\] (return (coerce (nreverse acc) 'simple-vector)))
               (t (fail "expected , or ]")))))))
    (#\" (parse-string s))
    (#\t (parse-literal s "true" :true))
    (#\f (parse-literal s "false" :false))
    (#\n (parse-literal s "null" :null))
    (#\- (incf *pos*) (- 0 (parse-number s)))
    (t (parse-number s))))

(defun parse (s)
  (setf *pos* 0)
  (let ((v (parse-value s)))
    (skip-ws s)
    (when (< *pos* (length s)) (fail "text after the value"))
    v))

;; ---------------------------------------------------------------- summarise

(defstruct stats
  (objects 0) (arrays 0) (strings 0) (numbers 0) (trues 0) (falses 0) (nulls 0)
  (members 0) (sum 0) (chars 0))

(defun walk (v st)
  (cond ((stringp v) (incf (stats-strings st)) (incf (stats-chars st) (length v)))
        ((integerp v) (incf (stats-numbers st)) (incf (stats-sum st) v))
        ((eq v :true) (incf (stats-trues st)))
        ((eq v :false) (incf (stats-falses st)))
        ((eq v :null) (incf (stats-nulls st)))
        ((simple-vector-p v) (incf (stats-arrays st)) (loop for x across v do (walk x st)))
        (t (incf (stats-objects st))
           (loop for (k . x) in v
                 do (incf (stats-members st))
                    (incf (stats-chars st) (length k))
                    (walk x st)))))

(defun field (obj k) (cdr (assoc k obj :test #'string=)))

(defun main (n)
  (let* ((doc (to-json (document n)))
         (value (parse doc))
         (st (make-stats)))
    (walk value st)
    (println "document: " (length doc) " chars")
    (println "objects: " (stats-objects st) " arrays: " (stats-arrays st) " members: " (stats-members st))
    (println "strings: " (stats-strings st) " numbers: " (stats-numbers st) " true: " (stats-trues st)
             " false: " (stats-falses st) " null: " (stats-nulls st))
    (println "sum of numbers: " (stats-sum st))
    (println "string chars: " (stats-chars st))
    (println "active score: "
             (loop for r across (field value "records")
                   when (eq (field r "active") :true) sum (field r "score")))
    (println "round trip: " (if (string= (to-json value) doc) "same" "different"))))
(main (arg-or 27000))
