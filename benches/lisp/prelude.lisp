;;; Prelude for SBCL. benches/run writes this file and the program body into
;;; one file, compiles it with `compile-file` and runs the fasl with
;;; `sbcl --script`. Generic (undeclared) arithmetic, as in the other Lisps.
(declaim (optimize (speed 3) (safety 1) (debug 0)))
#+sbcl (declaim (sb-ext:muffle-conditions sb-ext:compiler-note))
(defun arg-or (default)
  (let ((args (cdr sb-ext:*posix-argv*)))
    (if args (parse-integer (car args)) default)))
(defun println (&rest xs)
  (dolist (x xs) (princ x))
  (terpri))
